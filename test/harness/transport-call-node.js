'use strict';

const path = require('node:path');

const TRANSPORT = path.resolve(__dirname, '../../dist/nodes/TerrosImport/transport/index.js');

/**
 * A node for tests only: calls the package's own transport (`terrosApiRequest`) for a Terros
 * route, with the real execution context, credential and HTTP helpers. It reaches routes no
 * operation calls (`/user/get`), so that their retry policy is tried through n8n's engine too.
 */
class TransportCall {
	constructor() {
		this.description = {
			displayName: 'Transport Call',
			name: 'transportCall',
			group: ['transform'],
			version: 1,
			description: 'Calls a Terros route through the package transport, for tests',
			defaults: { name: 'Transport Call' },
			inputs: ['main'],
			outputs: ['main'],
			credentials: [{ name: 'terrosApi', required: true }],
			properties: [
				{ displayName: 'Route', name: 'route', type: 'string', default: '/user/get' },
				{ displayName: 'Body', name: 'body', type: 'json', default: '{}' },
			],
		};
	}

	async execute() {
		const { terrosApiRequest } = require(TRANSPORT);
		const out = [];
		const items = this.getInputData();
		for (let i = 0; i < items.length; i++) {
			const route = this.getNodeParameter('route', i);
			const raw = this.getNodeParameter('body', i);
			const body = typeof raw === 'string' ? JSON.parse(raw) : raw;
			out.push({
				json: await terrosApiRequest.call(this, route, body, i),
				pairedItem: { item: i },
			});
		}
		return [out];
	}
}

module.exports = { TransportCall };
