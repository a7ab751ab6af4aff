"""The Dask layer: input checks and conversion (lazy), and the graph that
maps a statistic's block function over row blocks and tree-merges."""
