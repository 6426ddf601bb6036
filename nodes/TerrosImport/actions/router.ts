import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { mapWithConcurrency } from '../helpers/errorDetails';
import type { Halt } from '../helpers/sleep';
import * as importResource from './import';

type Operation = {
	execute: (
		this: IExecuteFunctions,
		itemIndex: number,
		halt: Halt,
	) => Promise<INodeExecutionData[]>;
};

const OPERATIONS: Record<string, Operation> = {
	cleanUp: importResource.cleanUp,
	create: importResource.create,
	get: importResource.get,
	getAll: importResource.getAll,
	getErrors: importResource.getErrors,
	importFile: importResource.importFile,
	uploadFile: importResource.uploadFile,
	waitForCompletion: importResource.waitForCompletion,
};

/** Waits are mostly idle, so many items are awaited at once; other operations go in order. */
const ITEM_CONCURRENCY: Record<string, number> = { waitForCompletion: 50 };

function errorItemJson(
	error: Error & { description?: string | null; context?: IDataObject; httpCode?: string | null },
): IDataObject {
	return {
		error: error.message,
		...(error.description ? { description: error.description } : {}),
		...(error.httpCode ? { httpCode: error.httpCode } : {}),
		...(error.context?.importId ? { importId: error.context.importId } : {}),
		...(error.context?.importStatus ? { importStatus: error.context.importStatus } : {}),
	};
}

/** Runs the chosen operation for every item; owns pairedItem and continueOnFail. */
export async function router(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = this.getInputData();
	const operationName = this.getNodeParameter('operation', 0) as string;
	const operation = OPERATIONS[operationName];
	if (!operation) {
		throw new NodeOperationError(this.getNode(), `The operation "${operationName}" is not known`);
	}
	// Once an item fails the node (no continueOnFail), the items still running stop as well.
	const halt: Halt = { stopped: false };
	const runItem = async (itemIndex: number): Promise<INodeExecutionData[]> => {
		try {
			const output = await operation.execute.call(this, itemIndex, halt);
			return output.map((item) => ({ ...item, pairedItem: { item: itemIndex } }));
		} catch (caught) {
			const error =
				caught instanceof NodeApiError || caught instanceof NodeOperationError
					? caught
					: new NodeOperationError(this.getNode(), caught as Error, { itemIndex });
			if (error.context.itemIndex === undefined) error.context.itemIndex = itemIndex;
			if (this.continueOnFail()) {
				const json = errorItemJson(error);
				if (this.getNode().onError === 'continueErrorOutput') {
					// n8n moves an item to the error output only when its json holds nothing but
					// error, message and details (it then adds the input item's fields).
					const { error: message, ...details } = json;
					return [{ json: { error: message, details }, pairedItem: { item: itemIndex } }];
				}
				return [{ json, pairedItem: { item: itemIndex } }];
			}
			halt.stopped = true;
			throw error;
		}
	};
	const concurrency = ITEM_CONCURRENCY[operationName] ?? 1;
	const results = await mapWithConcurrency(
		items.map((_, index) => index),
		concurrency,
		runItem,
	);
	return [results.flat()];
}
