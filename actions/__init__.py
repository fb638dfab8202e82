"""rasa_sdk custom actions, one module per feature. No import-time work: the action
server imports every module here and builds each action with no arguments."""
