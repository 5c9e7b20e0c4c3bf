export declare const readmeSnippet: (projectDir: string) => { readonly snippet: string; readonly example: string }
