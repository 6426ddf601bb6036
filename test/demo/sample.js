'use strict';

/**
 * A deterministic sample export of accounts: mostly good rows, with a few that Terros' checks
 * reject (a missing name, a bad email, a bad phone), and some rows that exercise CSV quoting.
 */

const CITIES = ['Austin', 'Denver', 'Phoenix', 'Tampa', 'Boise', 'Omaha', 'Reno', 'Tulsa'];
const STREETS = ['Main St', 'Oak Ave', 'Pine Rd', 'Elm Dr', 'Cedar Ln', 'Maple Ct'];

function quote(value) {
	return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

/** Returns `{ csv, rows, badRows }` where badRows maps a data-row number to the fault put in it. */
function sampleAccounts(count = 300) {
	const lines = ['Company,E-mail,phone,address'];
	const badRows = new Map();
	for (let row = 1; row <= count; row++) {
		const city = CITIES[row % CITIES.length];
		let name = `${city} Solar ${row}`;
		let email = `owner${row}@${city.toLowerCase()}-solar.example`;
		let phone = `+1 555 ${String(1000 + row).padStart(4, '0')}`;
		const address = `${100 + row} ${STREETS[row % STREETS.length]}, ${city}`;
		if (row % 41 === 0) {
			name = '';
			badRows.set(row, 'name is required');
		} else if (row % 29 === 0) {
			email = `owner${row}-at-${city.toLowerCase()}`;
			badRows.set(row, `"${email}" is not a valid email address`);
		} else if (row % 53 === 0) {
			phone = 'call the office';
			badRows.set(row, `"${phone}" is not a valid phone number`);
		} else if (row % 17 === 0) {
			name = `${city} "Sun" Co, Inc`;
		}
		lines.push([name, email, phone, address].map(quote).join(','));
	}
	return { csv: `\uFEFF${lines.join('\r\n')}\r\n`, rows: count, badRows };
}

module.exports = { sampleAccounts };
