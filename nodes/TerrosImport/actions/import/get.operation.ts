import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { getImportId } from '../../helpers/importBody';
import { terrosApiRequest } from '../../transport';
import { importIdField } from './common';

export const description: INodeProperties[] = [importIdField(['get'])];

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const importId = getImportId.call(this, itemIndex);
	const response = await terrosApiRequest.call(
		this,
		'/import/get',
		{ importId },
		itemIndex,
		importId,
	);
	const log = (response.log ?? {}) as IDataObject;
	return [{ json: { importId, ...log } }];
}
