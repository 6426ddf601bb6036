/** Tests are plain JavaScript and run the compiled package in dist/: build first (npm test does). */
module.exports = {
	testEnvironment: 'node',
	testMatch: ['<rootDir>/test/**/*.test.js'],
	testTimeout: 30_000,
	maxWorkers: 2,
	modulePathIgnorePatterns: ['<rootDir>/dist/package.json'],
	// Every workflow run is recorded (test/harness/run-log.js); the teardown scans all of it for
	// secrets and fails the run on a leak.
	globalSetup: '<rootDir>/test/harness/run-log-setup.js',
	globalTeardown: '<rootDir>/test/harness/run-log-teardown.js',
};
