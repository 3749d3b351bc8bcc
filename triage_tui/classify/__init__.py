"""The Classifier protocol and its implementations: rules, learned, optional LLM."""
