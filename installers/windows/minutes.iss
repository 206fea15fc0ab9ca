; Inno Setup 6 script for Minutes on Windows. UNTESTED: Windows cannot be built on the Linux
; machine this was written on. Build the bundle first on Windows (python installers\build.py
; --variant runtime, or runtime-cuda), then: iscc /DVariant=runtime installers\windows\minutes.iss
; The uninstaller removes the program only; meetings, models and settings in %LOCALAPPDATA%\Minutes
; stay unless the user says yes to the question at the end of the uninstall.

#ifndef Variant
  #define Variant "runtime"
#endif
#define AppVersion "0.1.0"
#define BundleDir "..\..\dist\minutes-" + Variant + "-" + AppVersion + "-windows-amd64"

[Setup]
AppId={{6C1F3B52-4E1E-4B8E-9D39-3B0F5F5A9E10}
AppName=Minutes
AppVersion={#AppVersion}
AppPublisher=Minutes
DefaultDirName={autopf}\Minutes
DefaultGroupName=Minutes
DisableProgramGroupPage=yes
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\..\dist
OutputBaseFilename=minutes-{#Variant}-{#AppVersion}-setup
SetupIconFile=..\icons\minutes.ico
UninstallDisplayIcon={app}\minutes-gui.exe
Compression=lzma2/max
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Minutes"; Filename: "{app}\minutes-gui.exe"
Name: "{group}\Uninstall Minutes"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Minutes"; Filename: "{app}\minutes-gui.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\minutes-gui.exe"; Description: "{cm:LaunchProgram,Minutes}"; Flags: nowait postinstall skipifsilent

[Code]
// Keep the user's meetings unless asked: only a "Yes" here deletes %LOCALAPPDATA%\Minutes.
procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  DataDir: String;
begin
  if CurUninstallStep = usPostUninstall then
  begin
    DataDir := ExpandConstant('{localappdata}\Minutes');
    if DirExists(DataDir) and not UninstallSilent() then
      if MsgBox('Also delete your meetings, recordings, voice profiles and settings in ' + DataDir + '?',
                mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES then
        DelTree(DataDir, True, True, True);
  end;
end;
