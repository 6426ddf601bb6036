'use strict';

const { startSimulator, DEFAULT_KEYS } = require('./index');

function arg(name, fallback) {
	const i = process.argv.indexOf(`--${name}`);
	return i > -1
		? process.argv[i + 1]
		: (process.env[`TERROS_SIM_${name.toUpperCase().replace(/-/g, '_')}`] ?? fallback);
}

async function main() {
	const sim = await startSimulator({
		host: arg('host', '127.0.0.1'),
		apiPort: Number(arg('port', 4010)),
		s3Port: Number(arg('s3-port', 4011)),
		stepMs: Number(arg('step-ms', 2000)),
	});
	const key = Object.keys(DEFAULT_KEYS)[0];
	console.log(`Terros simulator listening`);
	console.log(`  Base URL:  ${sim.baseUrl}`);
	console.log(`  S3 URL:    ${sim.s3Url}`);
	console.log(`  API key:   ${key}`);
	console.log('Press Ctrl+C to stop.');
	const stop = async () => {
		await sim.stop();
		process.exit(0);
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((error) => {
	console.error(error);
	process.exit(1);
});
