"""Infrastructure: database, cache, auth, HTTP envelope, metrics, rate limits, events. No business words."""
