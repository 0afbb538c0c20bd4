"""Federation with neighbouring authorities: SERVICE evaluated in our layer under the
allow-list (`service`), harvesting neighbours into their own named graphs (`harvest`,
`sources`), the change feed every ingest and harvest writes (`changes`), and queries sent to
any SPARQL endpoint (`remote`)."""
