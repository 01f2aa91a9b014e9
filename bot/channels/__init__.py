"""Channel adapters. Modules that import Rasa run inside the Rasa server's environment."""
