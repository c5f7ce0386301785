"""Helpers of the test suites only (the socket.io chat client, skip policy); what the
benchmarks share with the tests lives in devkit/."""
