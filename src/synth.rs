//! Synthetic HUD HMIS CSV data for the demo, tests and benchmarks. (Stub: built by the import work.)
