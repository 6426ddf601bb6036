'use strict';

const path = require('node:path');

const { IMPORT_OPTIONS, ENTITIES } = require('../simulator');
const { errorShape, run, terros, useSimulator } = require('./helpers');

const handle = useSimulator();
let sim;

beforeAll(() => {
	sim = handle.sim;
});
beforeEach(() => sim.reset());

const addRequests = () => sim.requests.filter((r) => r.path === '/import/add');

const ENTITY_LIST = 'Account, Contact, CalendarEvent, User, Task, Recruit';

/** Runs one Create node over `items` (one empty item by default). */
function create(parameters, { items = [{}], extra = {}, apiKey } = {}) {
	return run(sim, items, [terros('Create', 'create', parameters, extra)], apiKey);
}

describe('Create: success', () => {
	it('outputs the import ID, entity, name, status, upload URL and its expiry, paired to the input', async () => {
		const before = Date.now();
		const result = await create({ entity: 'Contact', name: '  Nightly contacts  ' });
		const after = Date.now();
		expect(result.status).toBe('success');
		const items = result.output('Create');
		expect(items).toHaveLength(1);
		const { json, pairedItem } = items[0];
		expect(pairedItem).toEqual({ item: 0 });
		expect(Object.keys(json).sort()).toEqual(
			['entity', 'importId', 'importStatus', 'name', 'uploadUrl', 'uploadUrlExpiresAt'].sort(),
		);
		expect(json.importId).toMatch(/^Import:[0-9a-f]{12}$/);
		expect(json).toMatchObject({
			entity: 'Contact',
			name: 'Nightly contacts',
			importStatus: 'New',
		});
		const record = sim.imports.get(json.importId);
		expect(record).toMatchObject({ entity: 'Contact', name: 'Nightly contacts', company: 'acme' });
		// The upload URL is the simulator's pre-signed S3 URL for this import.
		const url = new URL(json.uploadUrl);
		expect(url.origin).toBe(sim.s3Url);
		expect(url.pathname).toBe(
			`/terros-imports/imports/${encodeURIComponent(json.importId)}/upload.csv`,
		);
		expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
		// Expiry: the URL's signing second plus one hour.
		const expires = Date.parse(json.uploadUrlExpiresAt);
		expect(new Date(expires).toISOString()).toBe(json.uploadUrlExpiresAt);
		expect(expires).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3_600_000);
		expect(expires).toBeLessThanOrEqual(after + 3_600_000);
		expect(addRequests()).toHaveLength(1);
	});

	it('keeps the input item’s binary file, for an Upload File step after it', async () => {
		const result = await create(
			{ entity: 'Account' },
			{ items: [{ binaryText: 'name\nAcme\n' }, {}] },
		);
		const input = result.output('Input');
		const items = result.output('Create');
		expect(items[0].binary).toEqual(input[0].binary);
		expect(items[0].binary.data.id).toMatch(/^filesystem-v2:/);
		expect(items[1].binary).toBeUndefined();
	});

	it('outputs name null when no name is given, and sends no name', async () => {
		const result = await create({ entity: 'Task' });
		const { json } = result.output('Create')[0];
		expect(json).toMatchObject({ entity: 'Task', name: null, importStatus: 'New' });
		expect(sim.imports.get(json.importId).options).toEqual({ entity: 'Task' });
	});

	it('sends the options and the column mapping from both the pairs editor and the JSON field', async () => {
		const result = await create({
			entity: 'Account',
			name: 'With options',
			options: {
				disableGeocoding: true,
				addMissingUsers: false,
				createCustomLocations: true,
				workflowId: 'Workflow:wf1',
				columnMappingJson: '{"Company Name": "name", "E-mail": "email", "Tel": "phone"}',
				columnMapping: {
					mappings: [
						{ csvColumn: 'E-mail', terrosHeader: 'ownerEmail' },
						{ csvColumn: ' Street ', terrosHeader: ' address ' },
						{ csvColumn: '', terrosHeader: '' },
					],
				},
			},
		});
		expect(result.status).toBe('success');
		const { json } = result.output('Create')[0];
		expect(sim.imports.get(json.importId).options).toEqual({
			entity: 'Account',
			name: 'With options',
			disableGeocoding: true,
			addMissingUsers: false,
			createCustomLocations: true,
			workflowId: 'Workflow:wf1',
			// Pairs win over the JSON field on conflicts; both are trimmed; empty pairs are skipped.
			columnMapping: {
				'Company Name': 'name',
				'E-mail': 'ownerEmail',
				Tel: 'phone',
				Street: 'address',
			},
		});
	});

	it('sends the User options for a User import', async () => {
		const result = await create({
			entity: 'User',
			options: { notifyUsers: true, addMissingUsers: true },
		});
		const { json } = result.output('Create')[0];
		expect(sim.imports.get(json.importId).options).toEqual({
			entity: 'User',
			notifyUsers: true,
			addMissingUsers: true,
		});
	});

	it('creates one import per input item, each paired to its item', async () => {
		const result = await create(
			{ entity: '={{ $json.entity }}', name: '={{ $json.label }}' },
			{
				items: [
					{ entity: 'Account', label: 'first' },
					{ entity: 'Recruit', label: 'second' },
					{ entity: 'CalendarEvent', label: 'third' },
				],
			},
		);
		expect(result.status).toBe('success');
		const items = result.output('Create');
		expect(items.map((i) => [i.json.entity, i.json.name, i.pairedItem])).toEqual([
			['Account', 'first', { item: 0 }],
			['Recruit', 'second', { item: 1 }],
			['CalendarEvent', 'third', { item: 2 }],
		]);
		const ids = items.map((i) => i.json.importId);
		expect(new Set(ids).size).toBe(3);
		expect(sim.imports.size).toBe(3);
		for (const item of items) {
			expect(sim.imports.get(item.json.importId).entity).toBe(item.json.entity);
		}
		expect(addRequests()).toHaveLength(3);
	});
});

describe('Create: options apply only to their entities', () => {
	const { TerrosImport } = require(
		path.resolve(__dirname, '../../dist/nodes/TerrosImport/TerrosImport.node.js'),
	);
	const properties = new TerrosImport().description.properties;
	const optionsFor = (operation) =>
		properties.find(
			(p) => p.name === 'options' && p.displayOptions.show.operation.includes(operation),
		);

	it.each(['create', 'importFile'])(
		'%s shows each option for exactly the entities the API accepts it for',
		(operation) => {
			const collection = optionsFor(operation);
			const shown = {};
			for (const option of collection.options) {
				if (['columnMapping', 'columnMappingJson'].includes(option.name)) {
					expect(option.displayOptions).toBeUndefined();
					continue;
				}
				shown[option.name] = option.displayOptions.show['/entity'];
			}
			const expected = {};
			for (const [name, rule] of Object.entries(IMPORT_OPTIONS)) {
				if (name === 'name' || name === 'columnMapping') continue;
				expected[name] = rule.entities;
			}
			expect(shown).toEqual(expected);
			const entityField = properties.find(
				(p) => p.name === 'entity' && p.displayOptions.show.operation.includes(operation),
			);
			expect(entityField.options.map((o) => o.value)).toEqual(ENTITIES);
		},
	);

	it('refuses an option that does not apply (entity from an expression) before any request', async () => {
		const result = await create({
			entity: '={{ "Account" }}',
			options: { notifyUsers: true },
		});
		expect(result.status).toBe('error');
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeOperationError',
			message: 'The option "notifyUsers" does not apply to Account imports',
			description: 'It applies to User imports only. Remove it, or change the entity.',
			httpCode: null,
		});
		expect(addRequests()).toHaveLength(0);
		expect(sim.imports.size).toBe(0);
	});

	it.each([
		['workflowId', 'Contact', 'Workflow:x', 'It applies to Account imports only.'],
		[
			'disableGeocoding',
			'Task',
			true,
			'It applies to Account, CalendarEvent, Contact, Recruit imports only.',
		],
		[
			'addMissingUsers',
			'CalendarEvent',
			true,
			'It applies to Account, Contact, Recruit, User imports only.',
		],
		[
			'createCustomLocations',
			'User',
			false,
			'It applies to Account, CalendarEvent, Contact, Recruit imports only.',
		],
	])('refuses %s for %s imports', async (option, entity, value, applies) => {
		const result = await create(
			{
				entity: '={{ $json.entity }}',
				options: { [option]: value },
			},
			{ items: [{ entity }] },
		);
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeOperationError',
			message: `The option "${option}" does not apply to ${entity} imports`,
			description: `${applies} Remove it, or change the entity.`,
			httpCode: null,
		});
		expect(addRequests()).toHaveLength(0);
	});

	it('refuses an option of the wrong type before any request', async () => {
		const result = await create({
			entity: 'Account',
			options: { workflowId: '={{ 42 }}' },
		});
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeOperationError',
			message: 'The option "workflowId" must be text',
			description: 'It came as 42.',
			httpCode: null,
		});
		expect(addRequests()).toHaveLength(0);
	});

	it('with a fixed entity, n8n drops a hidden option before the node sees it: it is never sent', async () => {
		const result = await create({ entity: 'Account', options: { notifyUsers: true } });
		expect(result.status).toBe('success');
		const { json } = result.output('Create')[0];
		expect(sim.imports.get(json.importId).options).toEqual({ entity: 'Account' });
	});
});

describe('Create: bad parameters', () => {
	it('refuses an unknown entity from an expression before any request', async () => {
		const result = await create({ entity: '={{ $json.kind }}' }, { items: [{ kind: 'Widget' }] });
		expect(result.status).toBe('error');
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeOperationError',
			message: '"Widget" is not an entity Terros can import',
			description: `Use one of: ${ENTITY_LIST}.`,
			httpCode: null,
		});
		expect(addRequests()).toHaveLength(0);
	});

	it('refuses an entity that resolves to nothing', async () => {
		const result = await create({ entity: '={{ $json.kind }}' }, { items: [{}] });
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeOperationError',
			message: '"undefined" is not an entity Terros can import',
			description: `Use one of: ${ENTITY_LIST}.`,
			httpCode: null,
		});
		expect(addRequests()).toHaveLength(0);
	});

	it.each([
		[
			'invalid JSON',
			'{"Company": name}',
			'Column Mapping (JSON) is not valid JSON',
			'Give an object whose keys are CSV column names and whose values are Terros headers, e.g. {"Company": "name"}.',
		],
		[
			'an array',
			'["Company", "name"]',
			'Column Mapping (JSON) must be an object',
			'Give an object such as {"Company": "name", "E-mail": "email"}.',
		],
		[
			'a string',
			'"Company"',
			'Column Mapping (JSON) must be an object',
			'Give an object such as {"Company": "name", "E-mail": "email"}.',
		],
		[
			'a number value',
			'{"Company": "name", "Count": 5}',
			'Column Mapping (JSON) maps "Count" to 5, not to a header name',
			'Every value must be the name of a Terros header, as text.',
		],
		[
			'an empty value',
			'{"Company": "  "}',
			'Column Mapping (JSON) maps "Company" to "  ", not to a header name',
			'Every value must be the name of a Terros header, as text.',
		],
	])('refuses Column Mapping (JSON) that is %s', async (_, json, message, description) => {
		const result = await create({ entity: 'Account', options: { columnMappingJson: json } });
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeOperationError',
			message,
			description,
			httpCode: null,
		});
		expect(addRequests()).toHaveLength(0);
	});

	it('refuses a half-empty mapping pair', async () => {
		const result = await create({
			entity: 'Account',
			options: { columnMapping: { mappings: [{ csvColumn: 'Company', terrosHeader: ' ' }] } },
		});
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeOperationError',
			message: 'A column mapping pair is half empty',
			description: 'Fill in both the CSV column and the Terros header, or remove the pair.',
			httpCode: null,
		});
		expect(addRequests()).toHaveLength(0);
	});
});

describe('Create: API errors', () => {
	it('reports a read-only key as a NotAuthorized envelope error', async () => {
		const result = await create({ entity: 'Account' }, { apiKey: 'sim-key-acme-readonly' });
		expect(result.status).toBe('error');
		const error = result.error('Create');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: This API key is not allowed to manage imports',
			description:
				'Terros error NotAuthorized. The API key is valid but may not do this. Ask a Terros admin to check the key’s permissions under Company Settings → API Keys.',
			httpCode: '200',
		});
		expect(error.context.terrosError).toBe('NotAuthorized');
		expect(addRequests()).toHaveLength(1);
		expect(sim.imports.size).toBe(0);
	});

	it('reports a wrong key as HTTP 403', async () => {
		const result = await create({ entity: 'Account' }, { apiKey: 'sim-key-nobody' });
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: Terros refused the API key (HTTP 403)',
			description:
				'The key is wrong, revoked or belongs to another environment. Create a new key under Company Settings → API Keys in Terros and update the Terros API credential.',
			httpCode: '403',
		});
		expect(addRequests()).toHaveLength(1);
	});

	it('reports an InvalidRequest envelope with Terros’ message', async () => {
		sim.inject({
			route: '/import/add',
			kind: 'envelope',
			error: 'InvalidRequest',
			message: 'name must be at most 100 characters',
		});
		const result = await create({ entity: 'Account', name: 'x' });
		const error = result.error('Create');
		expect(errorShape(error)).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: name must be at most 100 characters',
			description:
				'Terros error InvalidRequest. Terros rejected the request as sent. Check the parameters named in the message.',
			httpCode: '200',
		});
		expect(error.context.terrosError).toBe('InvalidRequest');
		expect(addRequests()).toHaveLength(1);
	});

	it('never retries Add Import, even on HTTP 500 or a Server envelope', async () => {
		sim.inject({ route: '/import/add', kind: 'serverError', times: 0 });
		let result = await create({ entity: 'Account' });
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: Terros is unavailable (HTTP 500)',
			description:
				'Terros or a proxy in front of it failed to answer. This is usually temporary: run the node again later. Terros may have created the import before this answer came. Look for it with the Get Many operation (List Imports) before running this node again, or you may create a duplicate.',
			httpCode: '500',
		});
		expect(addRequests()).toHaveLength(1);

		sim.reset();
		sim.inject({ route: '/import/add', kind: 'envelope', error: 'Server', times: 0 });
		result = await create({ entity: 'Account' });
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: Internal server error',
			description:
				'Terros error Server. Terros had an internal problem. This is usually temporary: run the node again later.',
			httpCode: '200',
		});
		expect(addRequests()).toHaveLength(1);
	});

	it('retries Add Import after a 429, which Terros answers before creating anything', async () => {
		sim.inject({ route: '/import/add', kind: 'throttle', retryAfter: 0 });
		const result = await create({ entity: 'Account' });
		expect(result.error('Create')).toBeUndefined();
		expect(result.output('Create')[0].json.importStatus).toBe('New');
		expect(addRequests()).toHaveLength(2);
		expect(sim.imports.size).toBe(1);
	});

	it('does not retry Add Import on a retry flag in an error body', async () => {
		sim.inject({ route: '/import/add', kind: 'envelope', error: 'Timeout', retry: true });
		const result = await create({ entity: 'Account' });
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeApiError',
			message: 'Create import failed: Internal server error',
			description:
				'Terros error Timeout. Terros took too long to answer. This is usually temporary: run the node again later.',
			httpCode: '200',
		});
		expect(addRequests()).toHaveLength(1);
	});

	it('warns that the import may exist when the connection drops after the request was sent', async () => {
		sim.inject({ route: '/import/add', kind: 'dropAfter' });
		const result = await create({ entity: 'Account' });
		expect(errorShape(result.error('Create'))).toEqual({
			name: 'NodeApiError',
			message:
				'Create import failed: the connection was closed before an answer came (POST /import/add)',
			description:
				'The request may have reached Terros before the connection failed, so the import may exist. Look for it with the Get Many operation (List Imports) before running this node again, or you may create a duplicate.',
			httpCode: null,
		});
		expect(addRequests()).toHaveLength(1);
		expect(sim.imports.size).toBe(1);
	});
});

describe('Create: continueOnFail', () => {
	it('outputs an error item paired to the failing input while the other items succeed', async () => {
		const result = await create(
			{ entity: '={{ $json.entity }}' },
			{
				items: [{ entity: 'Account' }, { entity: 'Widget' }, { entity: 'Contact' }],
				extra: { onError: 'continueRegularOutput' },
			},
		);
		expect(result.status).toBe('success');
		const items = result.output('Create');
		expect(items).toHaveLength(3);
		expect(items[0].pairedItem).toEqual({ item: 0 });
		expect(items[0].json).toMatchObject({ entity: 'Account', importStatus: 'New' });
		expect(items[1]).toEqual({
			json: {
				error: '"Widget" is not an entity Terros can import',
				description: `Use one of: ${ENTITY_LIST}.`,
			},
			pairedItem: { item: 1 },
		});
		expect(items[2].pairedItem).toEqual({ item: 2 });
		expect(items[2].json).toMatchObject({ entity: 'Contact', importStatus: 'New' });
		expect(addRequests()).toHaveLength(2);
		expect(sim.imports.size).toBe(2);
	});

	it('sends API errors to the error output, paired to their inputs', async () => {
		const result = await create(
			{ entity: 'Account' },
			{
				items: [{ n: 1 }, { n: 2 }],
				extra: { onError: 'continueErrorOutput' },
				apiKey: 'sim-key-nobody',
			},
		);
		expect(result.status).toBe('success');
		expect(result.output('Create', 0)).toEqual([]);
		const errors = result.output('Create', 1);
		const message = 'Create import failed: Terros refused the API key (HTTP 403)';
		const details = {
			description:
				'The key is wrong, revoked or belongs to another environment. Create a new key under Company Settings → API Keys in Terros and update the Terros API credential.',
			httpCode: '403',
		};
		// n8n adds the input item's fields to an error-output item.
		expect(errors.map((i) => [i.json, i.pairedItem])).toEqual([
			[{ n: 1, error: message, details }, { item: 0 }],
			[{ n: 2, error: message, details }, { item: 1 }],
		]);
		expect(addRequests()).toHaveLength(2);
	});
});
