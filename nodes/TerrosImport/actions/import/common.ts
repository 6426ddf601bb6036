import type { INodeProperties } from 'n8n-workflow';

import { ENTITIES } from '../../helpers/constants';

const show = (operation: string[]) => ({ show: { resource: ['import'], operation } });

/** The import ID field, read from the incoming item by default. */
export function importIdField(operation: string[]): INodeProperties {
	return {
		displayName: 'Import ID',
		name: 'importId',
		type: 'string',
		default: '={{ $json.importId }}',
		required: true,
		placeholder: 'e.g. Import:abc123',
		description: 'The import to act on; by default the importId of the incoming item',
		displayOptions: show(operation),
	};
}

const ENTITY_LABELS: Record<string, string> = {
	Account: 'Account',
	Contact: 'Contact',
	CalendarEvent: 'Calendar Event',
	User: 'User',
	Task: 'Task',
	Recruit: 'Recruit',
};

/** Entity, name and the Add Import options, each shown only for the entities it applies to. */
export function importDefinitionFields(operation: string[]): INodeProperties[] {
	return [
		{
			displayName: 'Entity',
			name: 'entity',
			type: 'options',
			default: 'Account',
			required: true,
			options: ENTITIES.map((value) => ({ name: ENTITY_LABELS[value], value })),
			description: 'What the CSV rows are',
			displayOptions: show(operation),
		},
		{
			displayName: 'Import Name',
			name: 'name',
			type: 'string',
			default: '',
			placeholder: 'e.g. Nightly CRM accounts',
			description: 'A name to recognise the import by in Terros; leave empty for none',
			displayOptions: show(operation),
		},
		{
			displayName: 'Options',
			name: 'options',
			type: 'collection',
			placeholder: 'Add Option',
			default: {},
			displayOptions: show(operation),
			options: [
				{
					displayName: 'Add Missing Users',
					name: 'addMissingUsers',
					type: 'boolean',
					default: false,
					description: 'Whether to create users named in the file that do not exist yet',
					displayOptions: { show: { '/entity': ['Account', 'Contact', 'Recruit', 'User'] } },
				},
				{
					displayName: 'Column Mapping',
					name: 'columnMapping',
					type: 'fixedCollection',
					typeOptions: { multipleValues: true },
					default: {},
					placeholder: 'Add Column',
					description: 'CSV columns whose names differ from the headers Terros expects',
					options: [
						{
							displayName: 'Mapping',
							name: 'mappings',
							values: [
								{
									displayName: 'CSV Column',
									name: 'csvColumn',
									type: 'string',
									default: '',
									placeholder: 'e.g. Company Name',
									description: 'The column name as it appears in the file’s header row',
								},
								{
									displayName: 'Terros Header',
									name: 'terrosHeader',
									type: 'string',
									default: '',
									placeholder: 'e.g. name',
									description: 'The header Terros should read the column as',
								},
							],
						},
					],
				},
				{
					displayName: 'Column Mapping (JSON)',
					name: 'columnMappingJson',
					type: 'json',
					default: '{}',
					description:
						'The same mapping as an object, e.g. {"Company Name": "name"}; handy from an expression. Pairs above win on conflicts.',
				},
				{
					displayName: 'Create Custom Locations',
					name: 'createCustomLocations',
					type: 'boolean',
					default: false,
					description: 'Whether to create locations for addresses Terros does not know yet',
					displayOptions: {
						show: { '/entity': ['Account', 'CalendarEvent', 'Contact', 'Recruit'] },
					},
				},
				{
					displayName: 'Disable Geocoding',
					name: 'disableGeocoding',
					type: 'boolean',
					default: false,
					description: 'Whether to skip resolving addresses to map locations',
					displayOptions: {
						show: { '/entity': ['Account', 'CalendarEvent', 'Contact', 'Recruit'] },
					},
				},
				{
					displayName: 'Notify Users',
					name: 'notifyUsers',
					type: 'boolean',
					default: false,
					description: 'Whether to send welcome emails to the users this import creates',
					displayOptions: { show: { '/entity': ['User'] } },
				},
				{
					displayName: 'Workflow ID',
					name: 'workflowId',
					type: 'string',
					default: '',
					placeholder: 'e.g. Workflow:abc123',
					description: 'A Terros workflow to apply to the imported accounts',
					displayOptions: { show: { '/entity': ['Account'] } },
				},
			],
		},
	];
}

export function binaryPropertyField(operation: string[]): INodeProperties {
	return {
		displayName: 'Input Binary Field',
		name: 'binaryPropertyName',
		type: 'string',
		default: 'data',
		required: true,
		hint: 'The name of the incoming binary field holding the CSV file',
		displayOptions: show(operation),
	};
}

/** Upload checks and limits shared by Upload File and Import File. */
export function uploadOptionFields(operation: string[]): INodeProperties {
	return {
		displayName: 'Upload Options',
		name: 'uploadOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: show(operation),
		options: [
			{
				displayName: 'Max File Size (MB)',
				name: 'maxFileSizeMb',
				type: 'number',
				default: 0,
				typeOptions: { minValue: 0 },
				description:
					'Refuse files larger than this before uploading; 0 means only the 5 GB limit of a single upload',
			},
			{
				displayName: 'Skip File Checks',
				name: 'skipChecks',
				type: 'boolean',
				default: false,
				description:
					'Whether to upload without first checking that the file looks like a comma-separated UTF-8 CSV',
			},
		],
	};
}

/** Poll interval, its cap and the timeout for waiting on an import. */
export function waitFields(
	operation: string[],
	extraShow: Record<string, unknown[]> = {},
): INodeProperties[] {
	const displayOptions = { show: { resource: ['import'], operation, ...extraShow } };
	return [
		{
			displayName:
				'The node holds the execution while it waits. Keep the timeout below the workflow’s own timeout, if one is set.',
			name: 'waitNotice',
			type: 'notice',
			default: '',
			displayOptions,
		},
		{
			displayName: 'Poll Interval (Seconds)',
			name: 'pollInterval',
			type: 'number',
			default: 5,
			typeOptions: { minValue: 0.01, numberPrecision: 2 },
			description: 'How long to wait before the second status check; each later wait doubles',
			displayOptions,
		},
		{
			displayName: 'Max Poll Interval (Seconds)',
			name: 'maxPollInterval',
			type: 'number',
			default: 60,
			typeOptions: { minValue: 0.01, numberPrecision: 2 },
			description: 'The longest wait between two status checks',
			displayOptions,
		},
		{
			displayName: 'Timeout (Minutes)',
			name: 'timeout',
			type: 'number',
			default: 30,
			typeOptions: { minValue: 0.01, numberPrecision: 2 },
			description: 'How long to wait in all before giving up on the import',
			displayOptions,
		},
	];
}
