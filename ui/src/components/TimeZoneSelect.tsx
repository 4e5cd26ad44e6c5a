export function browserTimeZone(): string {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const list = intl.supportedValuesOf?.('timeZone') ?? [];
  return list.includes('UTC') ? list : ['UTC', ...list];
}

export function TimeZoneSelect({ value, onChange, id }: { value: string; onChange: (tz: string) => void; id?: string }) {
  const list = zones();
  return (
    <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
      {!list.includes(value) && <option value={value}>{value}</option>}
      {list.map((z) => <option key={z} value={z}>{z}</option>)}
    </select>
  );
}
