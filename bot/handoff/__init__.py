"""Human handoff: conversations passed to staff, and the rules that route them."""
