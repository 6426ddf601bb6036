import {
	type IExecuteFunctions,
	type INodeExecutionData,
	type INodeType,
	type INodeTypeDescription,
	NodeConnectionTypes,
} from 'n8n-workflow';

import * as importResource from './actions/import';
import { router } from './actions/router';

export class TerrosImport implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Terros Import',
		name: 'terrosImport',
		icon: { light: 'file:../../icons/terros.svg', dark: 'file:../../icons/terros.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ $parameter["operation"] + ": " + $parameter["resource"] }}',
		description:
			'Bulk-import CSV files of accounts, contacts, events, users, tasks or recruits into Terros',
		defaults: { name: 'Terros Import' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		credentials: [{ name: 'terrosApi', required: true }],
		properties: [
			{
				displayName: 'Resource',
				name: 'resource',
				type: 'options',
				noDataExpression: true,
				options: [{ name: 'Import', value: 'import' }],
				default: 'import',
			},
			...importResource.description,
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return router.call(this);
	}
}
