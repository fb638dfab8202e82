"""Flask side: Twilio SMS webhooks, the development phone, health. Only this package imports Flask."""
