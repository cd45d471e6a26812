"""The JSON API (FastAPI) and the application factory the web pages share."""
