import type {
	IAuthenticateGeneric,
	Icon,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
} from 'n8n-workflow';

export class TerrosApi implements ICredentialType {
	name = 'terrosApi';

	displayName = 'Terros API';

	icon: Icon = { light: 'file:../icons/terros.svg', dark: 'file:../icons/terros.dark.svg' };

	documentationUrl = 'https://docs.terros.com';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			required: true,
			description:
				'A key made by a Terros admin under Company Settings → API Keys; it acts with that admin’s permissions',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.terros.com',
			description:
				'Leave as is for Terros itself. Plain http:// is accepted only for a local Terros simulator on this machine.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: {
				Authorization: '=ApiKey {{$credentials.apiKey}}',
			},
		},
	};

	test: ICredentialTestRequest = {
		request: {
			// Plain http:// is upgraded to https:// unless it points at this machine, so that the test
			// never sends the key unencrypted.
			baseURL:
				'={{ (/^http:\\/\\/(localhost|127(\\.\\d{1,3}){3}|\\[::1\\])(:\\d+)?(\\/|$)/i.test(String($credentials.baseUrl).trim()) ? String($credentials.baseUrl).trim() : String($credentials.baseUrl).trim().replace(/^http:\\/\\//i, "https://")).replace(/\\/+$/, "") }}',
			url: '/user/get',
			method: 'POST',
			body: {},
			json: true,
		},
		rules: [
			{
				type: 'responseSuccessBody',
				properties: {
					key: 'type',
					value: 'error',
					message: 'Terros refused the key: check that it has not been revoked',
				},
			},
		],
	};
}
