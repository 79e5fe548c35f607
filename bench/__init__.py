"""Benchmark harness for cavra-gql: data generator, legacy baseline, plain endpoint, runner."""
