"""Network layer: every URL the service contacts, and every socket it opens or serves.

``urls`` parses and checks outbound URLs with the parser the HTTP client uses;
``http`` makes the requests, each cut off at its deadline; ``bulkhead`` bounds
the fallback fetches; ``worker`` is the gunicorn worker that reads a request's
head on its event loop, so slow clients hold no thread.
"""
