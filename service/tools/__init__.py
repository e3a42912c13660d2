"""Tools beside the service, never imported by `waymark serve`: the demo generator and the benchmarks."""
