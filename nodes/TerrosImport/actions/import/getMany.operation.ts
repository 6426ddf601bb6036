import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { ENTITIES, IMPORT_STATUSES } from '../../helpers/constants';
import { terrosApiRequest } from '../../transport';

const displayOptions = { show: { resource: ['import'], operation: ['getAll'] } };

export const description: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
		displayOptions,
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		default: 50,
		typeOptions: { minValue: 1 },
		description: 'Max number of results to return',
		displayOptions: { show: { ...displayOptions.show, returnAll: [false] } },
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		displayOptions,
		options: [
			{
				displayName: 'Entity',
				name: 'entity',
				type: 'options',
				default: 'Account',
				options: ENTITIES.map((value) => ({ name: value, value })),
				description: 'Only imports of this entity',
			},
			{
				displayName: 'Status',
				name: 'importStatus',
				type: 'options',
				default: 'Completed',
				options: IMPORT_STATUSES.map((value) => ({ name: value, value })),
				description: 'Only imports in this status',
			},
		],
	},
];

const LIST_KEYS = ['imports', 'items', 'logs', 'data', 'results', 'records'];

/** Finds the list of imports in a List Imports answer, whose shape Terros does not publish. */
export function findImportList(response: IDataObject): IDataObject[] {
	const isList = (value: unknown): value is IDataObject[] => Array.isArray(value);
	for (const key of LIST_KEYS) {
		const value = response[key];
		if (isList(value)) return value;
		if (value && typeof value === 'object') {
			const nested = Object.values(value as IDataObject).find(isList);
			if (nested) return nested;
		}
	}
	const anyList = Object.values(response).find(isList);
	return anyList ?? [];
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const returnAll = this.getNodeParameter('returnAll', itemIndex, false) as boolean;
	const limit = this.getNodeParameter('limit', itemIndex, 50) as number;
	const filters = this.getNodeParameter('filters', itemIndex, {}) as IDataObject;
	const response = await terrosApiRequest.call(this, '/import/list', {}, itemIndex);
	let imports = findImportList(response).filter(
		(entry) => typeof entry === 'object' && entry !== null,
	);
	if (filters.entity) imports = imports.filter((entry) => entry.entity === filters.entity);
	if (filters.importStatus) {
		imports = imports.filter((entry) => entry.importStatus === filters.importStatus);
	}
	if (!returnAll) imports = imports.slice(0, limit);
	return imports.map((entry) => ({ json: entry }));
}
