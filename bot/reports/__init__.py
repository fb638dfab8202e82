"""Non-emergency reports: what residents report, and the department systems that receive them."""
