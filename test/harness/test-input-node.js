'use strict';

const fs = require('node:fs');

/**
 * A node for tests only: emits the items of its `items` parameter (JSON). An item may carry
 * `binaryFile` (a path streamed into n8n's binary store), `binaryText` (text stored as binary)
 * or `binaryInline` (kept as inline base64, as n8n's memory mode would), under `binaryProperty`.
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

module.exports = { TestInput };
