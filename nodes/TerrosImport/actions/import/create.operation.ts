import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { UPLOAD_URL_TTL_MS } from '../../helpers/constants';
import { getImportBody, signedUrlExpiry } from '../../helpers/importBody';
import { terrosApiRequest } from '../../transport';
import { importDefinitionFields } from './common';

export const description: INodeProperties[] = importDefinitionFields(['create']);

/** Creates the import and returns its ID and upload URL, or throws with what Terros said. */
export async function createImport(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<IDataObject> {
	const body = getImportBody.call(this, itemIndex);
	const response = await terrosApiRequest.call(this, '/import/add', body, itemIndex);
	const data = (response.importData ?? {}) as IDataObject;
	const importId = typeof data.importId === 'string' ? data.importId : '';
	const uploadUrl = typeof response.url === 'string' ? response.url : '';
	if (!importId || !uploadUrl) {
		throw new NodeApiError(
			this.getNode(),
			{ message: 'Terros answered without an import ID or upload URL' },
			{
				message: 'Create import failed: Terros answered without an import ID or upload URL',
				description: importId
					? `Import ${importId} was created without an upload URL; it cannot receive a file. Create another import.`
					: 'Check the Base URL of the Terros API credential.',
				httpCode: '200',
				itemIndex,
			},
		);
	}
	return {
		importId,
		entity: data.entity ?? body.entity,
		name: data.name ?? body.name ?? null,
		importStatus: data.importStatus ?? 'New',
		uploadUrl,
		uploadUrlExpiresAt: signedUrlExpiry(uploadUrl, UPLOAD_URL_TTL_MS),
	};
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const json = await createImport.call(this, itemIndex);
	// Keep the item's file, so that an Upload File step right after can send it.
	const { binary } = this.getInputData()[itemIndex];
	return [{ json, ...(binary ? { binary } : {}) }];
}
