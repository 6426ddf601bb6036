'use strict';

/**
 * The README's "Errors and what to do" tables are built from the reliability matrix: every
 * message they show must be one a test checks, word for word (`…` and `<…>` stand for the parts
 * that vary: the step, an ID, a status, Terros' own message).
 */

const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '../..');

function errorTable() {
	const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
	const start = readme.indexOf('## Errors and what to do');
	const end = readme.indexOf('\n## ', start + 1);
	expect(start).toBeGreaterThan(-1);
	return readme.slice(start, end);
}

/** The backticked messages of each row's first cell ("you see"). */
function messages(section) {
	return section
		.split('\n')
		.filter((line) => line.startsWith('| `'))
		.flatMap((line) => {
			const cell = line.slice(1, line.indexOf(' | '));
			return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
		});
}

/** A README message as a pattern: `…` and `<…>` match anything. */
function pattern(message) {
	const parts = message.split(/(…|<[^>]+>)/);
	const source = parts
		.map((part, i) => (i % 2 === 1 ? '[^\\n]*?' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
		.join('');
	return new RegExp(source);
}

/** The text of the tests that check messages, with JS string escapes undone. */
function testSources() {
	const dirs = ['test/reliability', 'test/node'];
	return dirs
		.flatMap((dir) =>
			fs
				.readdirSync(path.join(ROOT, dir))
				.filter((f) => f.endsWith('.test.js') && f !== 'readme.test.js')
				.map((f) => fs.readFileSync(path.join(ROOT, dir, f), 'utf8')),
		)
		.join('\n')
		.replace(/\\(['"`])/g, '$1');
}

describe('README: Errors and what to do', () => {
	const section = errorTable();
	const shown = messages(section);
	const sources = testSources();

	it('lists the messages of the matrix', () => {
		expect(shown.length).toBeGreaterThan(40);
	});

	it.each(shown.map((m) => [m]))('%s is a message a test checks', (message) => {
		expect(sources).toMatch(pattern(message));
	});

	it('each row’s words are the node’s own (no message is made up in the README only)', () => {
		// Spot checks against the compiled node's own strings, for the messages built there.
		const dist = path.join(ROOT, 'dist/nodes/TerrosImport');
		const compiled = [
			'transport/errors.js',
			'transport/index.js',
			'transport/storage.js',
			'helpers/csv.js',
		]
			.map((f) => fs.readFileSync(path.join(dist, f), 'utf8'))
			.join('\n');
		for (const words of [
			'Terros refused the API key',
			'the upload URL expired',
			'the upload URL’s signature does not match the request',
			'the storage service refused the request’s authentication',
			'the upload was sent without its length',
			'the error file’s download link expired',
			'Look for it with the Get Many operation (List Imports)',
			'Terros may have created the import before this answer came',
			'The file is not valid UTF-8 text',
		]) {
			expect(section).toContain(words);
			expect(compiled).toContain(words);
		}
	});
});
