import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeProperties,
} from 'n8n-workflow';

import { DEFAULT_DOWNLOAD_CONCURRENCY } from '../../helpers/constants';
import { downloadErrorRows, fetchErrorRecords, rowFromKey } from '../../helpers/errorDetails';
import { getImportId } from '../../helpers/importBody';
import { importIdField } from './common';

const displayOptions = { show: { resource: ['import'], operation: ['getErrors'] } };

export const description: INodeProperties[] = [
	importIdField(['getErrors']),
	{
		displayName: 'Output',
		name: 'output',
		type: 'options',
		default: 'records',
		displayOptions,
		options: [
			{
				name: 'Error Records',
				value: 'records',
				description: 'One item per error file: its key and a download link valid 12 hours',
			},
			{
				name: 'Failed Rows',
				value: 'rows',
				description:
					'Download every error file; one item per failed row with its row number and reason',
			},
			{
				name: 'Failed Rows With Files',
				value: 'files',
				description: 'As Failed Rows, with each raw error file attached as binary data',
			},
		],
	},
	{
		displayName:
			'When the import has no errors, one item with errorCount 0 is output so that the next nodes still run',
		name: 'noErrorsNotice',
		type: 'notice',
		default: '',
		displayOptions,
	},
	{
		displayName: 'Options',
		name: 'errorOptions',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		displayOptions: { show: { ...displayOptions.show, output: ['rows', 'files'] } },
		options: [
			{
				displayName: 'Parallel Downloads',
				name: 'concurrency',
				type: 'number',
				default: DEFAULT_DOWNLOAD_CONCURRENCY,
				typeOptions: { minValue: 1, maxValue: 50 },
				description: 'How many error files to download at once',
			},
			{
				displayName: 'Binary Field',
				name: 'binaryPropertyName',
				type: 'string',
				default: 'errorFile',
				description: 'The binary field the error file is put in',
				displayOptions: { show: { '/output': ['files'] } },
			},
		],
	},
];

/** The error items of one import, in row order. */
export async function getErrorItems(
	this: IExecuteFunctions,
	importId: string,
	itemIndex: number,
	output: string,
	options: IDataObject,
): Promise<INodeExecutionData[]> {
	const records = await fetchErrorRecords.call(this, importId, itemIndex);
	const errorCount = records.length;
	if (errorCount === 0) return [{ json: { importId, errorCount: 0 } }];
	if (output === 'records') {
		return records
			.map((record) => ({
				json: { importId, errorCount, row: rowFromKey(record.key) ?? null, ...record },
			}))
			.sort((a, b) => ((a.json.row as number) ?? 0) - ((b.json.row as number) ?? 0));
	}
	const concurrency = Math.max(1, Number(options.concurrency ?? DEFAULT_DOWNLOAD_CONCURRENCY));
	const attach = output === 'files';
	const rows = await downloadErrorRows.call(
		this,
		importId,
		records,
		concurrency,
		itemIndex,
		attach,
	);
	const binaryField = String(options.binaryPropertyName ?? 'errorFile') || 'errorFile';
	return rows.map((row) => ({
		json: { ...row.json, errorCount },
		...(row.binary ? { binary: { [binaryField]: row.binary } } : {}),
	}));
}

export async function execute(
	this: IExecuteFunctions,
	itemIndex: number,
): Promise<INodeExecutionData[]> {
	const importId = getImportId.call(this, itemIndex);
	const output = this.getNodeParameter('output', itemIndex, 'records') as string;
	const options = this.getNodeParameter('errorOptions', itemIndex, {}) as IDataObject;
	return getErrorItems.call(this, importId, itemIndex, output, options);
}
