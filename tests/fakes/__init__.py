"""Local fakes of outside services, for tests that must not reach the internet."""
