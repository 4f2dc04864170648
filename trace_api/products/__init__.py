"""Products: registering one (a GTIN assigned under the network's prefix when it has none) and looking one up."""
