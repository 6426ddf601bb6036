import type { INodeProperties } from 'n8n-workflow';

import * as cleanUp from './cleanUp.operation';
import * as create from './create.operation';
import * as get from './get.operation';
import * as getErrors from './getErrors.operation';
import * as getAll from './getMany.operation';
import * as importFile from './importFile.operation';
import * as uploadFile from './upload.operation';
import * as waitForCompletion from './waitForCompletion.operation';

export { cleanUp, create, get, getAll, getErrors, importFile, uploadFile, waitForCompletion };

export const description: INodeProperties[] = [
	{
		displayName: 'Operation',
		name: 'operation',
		type: 'options',
		noDataExpression: true,
		displayOptions: { show: { resource: ['import'] } },
		default: 'importFile',
		options: [
			{
				name: 'Clean Up',
				value: 'cleanUp',
				description: 'Remove an import’s temporary data once it is finished',
				action: 'Clean up an import',
			},
			{
				name: 'Create',
				value: 'create',
				description: 'Start an import and get the URL to upload its CSV file to',
				action: 'Create an import',
			},
			{
				name: 'Get',
				value: 'get',
				description: 'Get the status and counts of an import',
				action: 'Get an import',
			},
			{
				name: 'Get Errors',
				value: 'getErrors',
				description: 'Get the rows an import could not take, and why',
				action: 'Get the errors of an import',
			},
			{
				name: 'Get Many',
				value: 'getAll',
				description: 'List the company’s imports, newest first',
				action: 'Get many imports',
			},
			{
				name: 'Import File',
				value: 'importFile',
				description: 'Create an import, upload the CSV and wait for the result, in one step',
				action: 'Import a CSV file',
			},
			{
				name: 'Upload File',
				value: 'uploadFile',
				description: 'Send a CSV file to the upload URL of a created import',
				action: 'Upload a CSV file to an import',
			},
			{
				name: 'Wait for Completion',
				value: 'waitForCompletion',
				description: 'Wait until an import is Completed or Failed',
				action: 'Wait for an import to finish',
			},
		],
	},
	...importFile.description,
	...create.description,
	...uploadFile.description,
	...waitForCompletion.description,
	...get.description,
	...getAll.description,
	...getErrors.description,
	...cleanUp.description,
];
