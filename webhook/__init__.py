"""Flask side: Twilio SMS webhooks, the web chat API and widget, the development phone and the
demo page, health. Only this package imports Flask."""
