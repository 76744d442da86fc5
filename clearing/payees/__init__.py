"""Payee accounts: the bank accounts Passnum pays (a site's own, its public treasurer's, a grant
recipient's), versioned and verified by the operator before any payment."""
