'use strict';

/**
 * jest globalSetup: gives this jest run a fresh, empty run-log folder of its own under
 * TERROS_RUN_LOG_DIR (default .tmp/run-log), so that runs of other jest processes neither mix in
 * nor get wiped, and removes what runs that have ended left behind. The workers inherit the
 * folder through the environment.
 */

const fs = require('node:fs');
const path = require('node:path');

const { runLogDir } = require('./run-log');

function alive(pid) {
	try {
		process.kill(pid, 0);
		return true;
	} catch (error) {
		return error.code === 'EPERM';
	}
}

module.exports = async function runLogSetup() {
	const base = process.env.TERROS_RUN_LOG_BASE || runLogDir();
	fs.mkdirSync(base, { recursive: true });
	for (const name of fs.readdirSync(base)) {
		const session = /^session-(\d+)$/.exec(name);
		if (session && alive(Number(session[1]))) continue;
		fs.rmSync(path.join(base, name), { recursive: true, force: true });
	}
	const dir = path.join(base, `session-${process.pid}`);
	fs.rmSync(dir, { recursive: true, force: true });
	fs.mkdirSync(dir, { recursive: true });
	process.env.TERROS_RUN_LOG_BASE = base;
	process.env.TERROS_RUN_LOG_DIR = dir;
};
