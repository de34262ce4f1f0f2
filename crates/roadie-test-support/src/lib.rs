//! Test support: a hermetic environment for running the roadie binary, and fake servers.
