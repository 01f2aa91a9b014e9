"""Administration of the knowledge base: the CLI (`python -m bot.admin`) and the web page (`bot.admin.web`)."""
