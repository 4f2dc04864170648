"""What every feature of the API and its pages shares, below the features: request dependencies, the error
mapping, idempotent writes, schema bases, page rendering, signing in, the words of the pages, and the ledger reads
and views more than one feature needs."""
