const { spawn } = require('node:child_process');
const { rm } = require('node:fs/promises');
const path = require('node:path');
const { src, dest, series } = require('gulp');

const DIST = path.join(__dirname, 'dist');

function clean() {
	return rm(DIST, { recursive: true, force: true });
}

function compile(done) {
	const tsc = require.resolve('typescript/bin/tsc');
	const child = spawn(process.execPath, [tsc, '-p', 'tsconfig.json'], {
		cwd: __dirname,
		stdio: 'inherit',
	});
	child.on('error', done);
	child.on('exit', (code) => done(code === 0 ? undefined : new Error(`tsc exited with ${code}`)));
}

// Icons live in icons/ and are referenced from nodes and credentials as ../../icons/*.svg,
// so the same relative layout is kept under dist/.
function copyIcons() {
	return src('icons/**/*.{png,svg}', { encoding: false }).pipe(dest('dist/icons'));
}

function copyCodex() {
	return src('nodes/**/*.node.json').pipe(dest('dist/nodes'));
}

exports.clean = clean;
exports.build = series(clean, compile, copyIcons, copyCodex);
exports.default = exports.build;
