"""The chain side of lotline: the embedded node (``chain.node``), the web3 client, contracts and anchoring."""
