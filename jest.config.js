/** Tests are plain JavaScript and run the compiled package in dist/: build first (npm test does). */
module.exports = {
	testEnvironment: 'node',
	testMatch: ['<rootDir>/test/**/*.test.js'],
	testTimeout: 30_000,
	maxWorkers: 2,
	modulePathIgnorePatterns: ['<rootDir>/dist/package.json'],
};
