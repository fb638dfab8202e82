"""Framework-free core of the resident outreach assistant.

Nothing here imports Flask, rasa or rasa_sdk, and nothing connects to anything at import time.
"""
