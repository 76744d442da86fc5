"""Payment batches: the SEPA credit transfers (pain.001.001.03) that pay the sites' statements, and
the bank's status reports (pain.002) that mark the rejected transfers."""
