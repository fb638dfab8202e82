"""Custom Rasa NLU components (imported by Rasa from config.yml; rasa only, no Flask or rasa_sdk)."""
