import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { ENTITIES, type Entity, IMPORT_ID_PATTERN, IMPORT_OPTION_RULES } from './constants';

/** Reads and checks an import ID parameter. */
export function getImportId(this: IExecuteFunctions, itemIndex: number): string {
	const raw = this.getNodeParameter('importId', itemIndex, '') as unknown;
	const importId = typeof raw === 'string' ? raw.trim() : '';
	if (!importId) {
		throw new NodeOperationError(this.getNode(), 'The import ID is empty', {
			itemIndex,
			description:
				'Set "Import ID" to an ID such as Import:abc123. By default it is read from the incoming item’s importId field, which this item does not have.',
		});
	}
	if (!IMPORT_ID_PATTERN.test(importId)) {
		throw new NodeOperationError(this.getNode(), `"${importId.slice(0, 60)}" is not an import ID`, {
			itemIndex,
			description: 'Import IDs look like Import:abc123, as returned by the Create operation.',
		});
	}
	return importId;
}

function parseMappingJson(
	this: IExecuteFunctions,
	raw: unknown,
	itemIndex: number,
): Record<string, string> {
	let value = raw;
	if (typeof value === 'string') {
		if (value.trim() === '') return {};
		try {
			value = JSON.parse(value);
		} catch {
			throw new NodeOperationError(this.getNode(), 'Column Mapping (JSON) is not valid JSON', {
				itemIndex,
				description:
					'Give an object whose keys are CSV column names and whose values are Terros headers, e.g. {"Company": "name"}.',
			});
		}
	}
	if (value === null || value === undefined) return {};
	if (typeof value !== 'object' || Array.isArray(value)) {
		throw new NodeOperationError(this.getNode(), 'Column Mapping (JSON) must be an object', {
			itemIndex,
			description: 'Give an object such as {"Company": "name", "E-mail": "email"}.',
		});
	}
	const mapping: Record<string, string> = {};
	for (const [column, header] of Object.entries(value as IDataObject)) {
		if (typeof header !== 'string' || header.trim() === '') {
			throw new NodeOperationError(
				this.getNode(),
				`Column Mapping (JSON) maps "${column}" to ${JSON.stringify(header)}, not to a header name`,
				{ itemIndex, description: 'Every value must be the name of a Terros header, as text.' },
			);
		}
		mapping[column] = header;
	}
	return mapping;
}

/** The column mapping from the pairs editor and the JSON field together. */
export function getColumnMapping(
	this: IExecuteFunctions,
	itemIndex: number,
	options: IDataObject,
): Record<string, string> | undefined {
	const mapping: Record<string, string> = parseMappingJson.call(
		this,
		options.columnMappingJson,
		itemIndex,
	);
	const pairs = ((options.columnMapping as IDataObject | undefined)?.mappings ?? []) as Array<{
		csvColumn?: string;
		terrosHeader?: string;
	}>;
	for (const pair of pairs) {
		const column = (pair.csvColumn ?? '').trim();
		const header = (pair.terrosHeader ?? '').trim();
		if (!column && !header) continue;
		if (!column || !header) {
			throw new NodeOperationError(this.getNode(), 'A column mapping pair is half empty', {
				itemIndex,
				description: 'Fill in both the CSV column and the Terros header, or remove the pair.',
			});
		}
		mapping[column] = header;
	}
	return Object.keys(mapping).length ? mapping : undefined;
}

/** Builds and checks the Add Import body from the node's parameters. */
export function getImportBody(this: IExecuteFunctions, itemIndex: number): IDataObject {
	const entity = this.getNodeParameter('entity', itemIndex) as unknown;
	if (typeof entity !== 'string' || !ENTITIES.includes(entity as Entity)) {
		throw new NodeOperationError(
			this.getNode(),
			`"${String(entity)}" is not an entity Terros can import`,
			{ itemIndex, description: `Use one of: ${ENTITIES.join(', ')}.` },
		);
	}
	const body: IDataObject = { entity };
	const name = String(this.getNodeParameter('name', itemIndex, '') ?? '').trim();
	if (name) body.name = name;
	const options = this.getNodeParameter('options', itemIndex, {}) as IDataObject;
	for (const [option, rule] of Object.entries(IMPORT_OPTION_RULES)) {
		const value = options[option];
		if (value === undefined || value === '') continue;
		if (!rule.entities.includes(entity as Entity)) {
			throw new NodeOperationError(
				this.getNode(),
				`The option "${option}" does not apply to ${entity} imports`,
				{
					itemIndex,
					description: `It applies to ${rule.entities.join(', ')} imports only. Remove it, or change the entity.`,
				},
			);
		}
		if (typeof value !== rule.type) {
			throw new NodeOperationError(
				this.getNode(),
				`The option "${option}" must be ${rule.type === 'boolean' ? 'true or false' : 'text'}`,
				{ itemIndex, description: `It came as ${JSON.stringify(value)}.` },
			);
		}
		body[option] = value;
	}
	const mapping = getColumnMapping.call(this, itemIndex, options);
	if (mapping) body.columnMapping = mapping;
	return body;
}

/** When a pre-signed URL stops working, from its own X-Amz-Date and X-Amz-Expires. */
export function signedUrlExpiry(url: string, fallbackMs: number): string {
	try {
		const query = new URL(url).searchParams;
		const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
			query.get('X-Amz-Date') ?? '',
		);
		const expires = Number(query.get('X-Amz-Expires'));
		if (date && Number.isFinite(expires)) {
			const [, y, mo, d, h, mi, s] = date.map(Number);
			return new Date(Date.UTC(y, mo - 1, d, h, mi, s) + expires * 1000).toISOString();
		}
	} catch {
		// Not a URL we can read: fall back to the documented lifetime.
	}
	return new Date(Date.now() + fallbackMs).toISOString();
}
