import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { UploadSource } from '../transport';
import { HEAD_BYTES } from './csv';
import { MAX_SINGLE_PUT_BYTES, UPLOAD_READ_CHUNK_BYTES } from './constants';

export interface CsvFile extends UploadSource {
	fileName?: string;
	/** The first bytes of the file, for checks. */
	readHead: () => Promise<Buffer>;
}

/**
 * The item's binary file as an upload source. A file in n8n's binary store is streamed from it
 * on each attempt, never read whole; inline (base64) data is sent as a buffer.
 */
export async function getCsvFile(
	this: IExecuteFunctions,
	itemIndex: number,
	property: string,
	maxBytes: number,
): Promise<CsvFile> {
	const item = this.getInputData()[itemIndex];
	if (!item.binary || Object.keys(item.binary).length === 0) {
		throw new NodeOperationError(this.getNode(), 'The item has no binary data', {
			itemIndex,
			description:
				'Connect a node that outputs the CSV file as binary data (e.g. Read/Write Files from Disk, HTTP Request with the response as a file, or Convert to File).',
		});
	}
	if (!item.binary[property]) {
		throw new NodeOperationError(this.getNode(), `The item has no binary property "${property}"`, {
			itemIndex,
			description: `Its binary properties are: ${Object.keys(item.binary).join(', ')}. Set "Input Binary Field" to the one holding the CSV file.`,
		});
	}
	const binary = this.helpers.assertBinaryData(itemIndex, property);
	let file: CsvFile;
	if (binary.id) {
		const id = binary.id;
		const metadata = await this.helpers.getBinaryMetadata(id);
		const size = Number(metadata.fileSize);
		file = {
			size,
			fileName: binary.fileName,
			open: async () => this.helpers.getBinaryStream(id, UPLOAD_READ_CHUNK_BYTES),
			readHead: async () => readHead(await this.helpers.getBinaryStream(id, HEAD_BYTES)),
		};
	} else {
		const buffer = await this.helpers.getBinaryDataBuffer(itemIndex, property);
		file = {
			size: buffer.length,
			fileName: binary.fileName,
			open: async () => buffer,
			readHead: async () => buffer.subarray(0, HEAD_BYTES),
		};
	}
	const limit = Math.min(maxBytes, MAX_SINGLE_PUT_BYTES);
	if (file.size > limit) {
		const cap =
			limit === MAX_SINGLE_PUT_BYTES
				? 'the 5 GB a single upload may hold'
				: 'the cap set in "Max File Size (MB)"';
		throw new NodeOperationError(
			this.getNode(),
			`The file is ${formatBytes(file.size)}, more than ${cap}`,
			{
				itemIndex,
				description:
					'Split the CSV into smaller files (each with the header row) and import each one, or raise the cap.',
			},
		);
	}
	return file;
}

async function readHead(
	stream: AsyncIterable<unknown> & { destroy?: () => void },
): Promise<Buffer> {
	const chunks: Buffer[] = [];
	let length = 0;
	try {
		for await (const chunk of stream) {
			const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
			chunks.push(buffer);
			length += buffer.length;
			if (length >= HEAD_BYTES) break;
		}
	} finally {
		stream.destroy?.();
	}
	return Buffer.concat(chunks).subarray(0, HEAD_BYTES);
}

/** A size for messages, rounded up: a file just over a limit never reads as the limit itself. */
export function formatBytes(bytes: number): string {
	const up = (unit: number, digits: number) =>
		(Math.ceil(bytes / (unit / 10 ** digits)) / 10 ** digits).toFixed(digits);
	if (bytes >= 1000 ** 3) return `${up(1000 ** 3, 2)} GB`;
	if (bytes >= 1000 ** 2) return `${up(1000 ** 2, 1)} MB`;
	if (bytes >= 1000) return `${up(1000, 1)} kB`;
	return `${bytes} bytes`;
}
