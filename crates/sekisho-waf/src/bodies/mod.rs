//! Request and response body processors: URL-encoded, multipart, JSON, XML.
