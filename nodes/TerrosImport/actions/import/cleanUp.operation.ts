import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { FINAL_STATUSES } from '../../helpers/constants';
import { getImportId } from '../../helpers/importBody';
import { terrosApiRequest } from '../../transport';
import { importIdField } from './common';

export const description: INodeProperties[] = [
	importIdField(['cleanUp']),
	{
		displayName: 'Force',
		name: 'force',
		type: 'boolean',
		default: false,
		description:
			'Whether to ask Terros to clean up even when the import is not Completed or Failed (Terros may still refuse)',
		displayOptions: { show: { resource: ['import'], operation: ['cleanUp'] } },
	},
];

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const importId = getImportId.call(this, itemIndex);
	const force = this.getNodeParameter('force', itemIndex, false) as boolean;
	const current = await terrosApiRequest.call(
		this,
		'/import/get',
		{ importId },
		itemIndex,
		importId,
	);
	const status = String(((current.log ?? {}) as IDataObject).importStatus ?? 'unknown');
	if (!force && !FINAL_STATUSES.includes(status)) {
		const error = new NodeOperationError(
			this.getNode(),
			`Import ${importId} is ${status}; clean up only runs on Completed or Failed imports`,
			{
				itemIndex,
				description:
					'Cleaning up a running import can break it. Put a Wait for Completion step before this one, or turn on "Force".',
			},
		);
		error.context.importId = importId;
		error.context.importStatus = status;
		throw error;
	}
	await terrosApiRequest.call(this, '/import/cleanup', { importId }, itemIndex, importId);
	return [{ json: { importId, importStatus: status, cleanedUp: true } }];
}
