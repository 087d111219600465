"""The proof: a state on a Gateway (session), one fixture's proof and its verdict, many fixtures, contracts, the nothing-lost oracle and fates, the Gateway's own reports."""
