"""Readers for council service directories and their mapping to RDF."""
