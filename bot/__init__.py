"""A Telegram bot that answers questions about a body of documents, with citations."""
