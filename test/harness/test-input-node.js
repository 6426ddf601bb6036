'use strict';

const fs = require('node:fs');
const path = require('node:path');

/**
 * A node for tests only: emits the items of its `items` parameter (JSON). An item may carry
 * `binaryFile` (a path streamed into n8n's binary store), `binaryText` (text stored as binary)
 * or `binaryInline` (kept as inline base64, as n8n's memory mode would), under `binaryProperty`.
 * `binarySize` (with `binaryText`) extends the stored file to that many bytes as a sparse file,
 * and n8n's metadata of it to match: what the store holds after taking a file that large, without
 * the minutes and the disk that copying one would cost.
 */
class TestInput {
	constructor() {
		this.description = {
			displayName: 'Test Input',
			name: 'testInput',
			group: ['input'],
			version: 1,
			description: 'Emits fixed items for tests',
			defaults: { name: 'Test Input' },
			inputs: ['main'],
			outputs: ['main'],
			properties: [{ displayName: 'Items', name: 'items', type: 'json', default: '[]' }],
		};
	}

	async execute() {
		const raw = this.getNodeParameter('items', 0);
		const items = typeof raw === 'string' ? JSON.parse(raw) : raw;
		const out = [];
		for (const spec of items) {
			const {
				binaryFile,
				binaryText,
				binaryInline,
				binaryProperty = 'data',
				binarySize,
				fileName,
				mimeType,
				...json
			} = spec;
			const item = { json };
			if (binaryFile) {
				const data = await this.helpers.prepareBinaryData(
					fs.createReadStream(binaryFile),
					fileName ?? 'upload.csv',
					mimeType ?? 'text/csv',
				);
				item.binary = { [binaryProperty]: data };
			} else if (binaryText !== undefined) {
				const data = await this.helpers.prepareBinaryData(
					Buffer.from(binaryText, 'utf8'),
					fileName ?? 'upload.csv',
					mimeType ?? 'text/csv',
				);
				if (binarySize !== undefined) await growStoredFile(data, binarySize);
				item.binary = { [binaryProperty]: data };
			} else if (binaryInline !== undefined) {
				const buffer = Buffer.from(binaryInline, 'utf8');
				item.binary = {
					[binaryProperty]: {
						data: buffer.toString('base64'),
						mimeType: mimeType ?? 'text/csv',
						fileName: fileName ?? 'upload.csv',
						fileSize: `${buffer.length} B`,
					},
				};
			}
			out.push(item);
		}
		return [out];
	}
}

/** Extends a file in n8n's filesystem binary store, sparsely, and rewrites its metadata. */
async function growStoredFile(binary, size) {
	const { Container } = require(
		require.resolve('@n8n/di', { paths: [require.resolve('n8n-core')] }),
	);
	const { StorageConfig } = require('n8n-core');
	const fileId = binary.id.replace(/^filesystem(-v2)?:/, '');
	const file = path.join(Container.get(StorageConfig).storagePath, fileId);
	fs.truncateSync(file, size);
	const metadataFile = `${file}.metadata`;
	const metadata = JSON.parse(fs.readFileSync(metadataFile, 'utf8'));
	metadata.fileSize = fs.statSync(file).size;
	fs.writeFileSync(metadataFile, JSON.stringify(metadata));
	binary.bytes = metadata.fileSize;
}

module.exports = { TestInput, growStoredFile };
